// Fashion-MNIST with a functional model, a checkpoint and predictions: the Keras workflow
// end to end. The Keras equivalent:
//
//   (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
//   inputs = keras.Input(shape=(28, 28))
//   x = layers.Flatten()(inputs)
//   x = layers.Dense(256, activation="relu")(x)
//   x = layers.Dropout(0.1)(x)
//   x = layers.Dense(128, activation="relu")(x)
//   outputs = layers.Dense(10, activation="softmax")(x)
//   model = keras.Model(inputs, outputs)
//   model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
//                 metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=5, batch_size=128, validation_split=0.1,
//             callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)])
//   model.evaluate(x_test, y_test)
//   model.save("fashion.keras")
//
// Run: build/bin/fashion_mnist [EPOCHS]
#include <cstdio>
#include <cstdlib>

#include "tessera/data/loaders.h"
#include "tessera/nn/layers.h"
#include "tessera/train/checkpoint.h"

int main(int argc, char** argv) {
  using namespace tessera;
  int epochs = argc > 1 ? std::atoi(argv[1]) : 5;
  Dataset train = load_fashion_mnist("train"), test = load_fashion_mnist("test");

  SymbolicTensor inputs = Input({28, 28});
  SymbolicTensor x = Flatten()(inputs);
  x = Dense(256, {.activation = "relu"})(x);
  x = Dropout(0.1)(x);
  x = Dense(128, {.activation = "relu"})(x);
  SymbolicTensor outputs = Dense(10, {.activation = "softmax"})(x);
  Model model({inputs}, {outputs}, "fashion");
  std::printf("%s", model.summary().c_str());

  model.compile(
      {.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  model.fit(train, {.epochs = epochs,
                    .batch_size = 128,
                    .validation_split = 0.1,
                    .callbacks = {early_stopping({.monitor = "val_loss", .patience = 2})}});
  auto result = model.evaluate(test.x, test.y, 512);
  std::printf("test accuracy: %.4f\n", result["accuracy"]);

  save_model(model, "fashion.tsm");
  Model restored = load_model("fashion.tsm");
  Tensor probs = restored.predict(test.slice(0, 5).x);
  for (int i = 0; i < 5; ++i) {
    int best = 0;
    for (int c = 1; c < 10; ++c)
      if (probs.get(i * 10 + c) > probs.get(i * 10 + best)) best = c;
    std::printf("sample %d: predicted %d, label %d\n", i, best, static_cast<int>(test.y.get(i)));
  }
  return 0;
}
