// The seed's Keras program in Tessera, line for line.
//
// The Keras original:
//
//   model = keras.Sequential([
//       layers.Dense(64, activation="relu", input_shape=(32,)),
//       layers.Dense(10, activation="softmax"),
//   ])
//   model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
//                 metrics=["accuracy"])
//   model.fit(x_train, y_train, epochs=10, batch_size=32,
//             validation_data=(x_test, y_test))
//
// Build: part of the normal build (build/bin/seed_keras); run it with no arguments.
#include <cstdio>

#include "tessera/data/dataset.h"
#include "tessera/nn/layers.h"
#include "tessera/train/model.h"

int main() {
  using namespace tessera;
  // The seed's data: Gaussian clusters, 32 features, 10 classes.
  auto [train, test] = synthetic_classification(/*seed=*/42, 10000).split(0.8);

  Sequential model({
      Dense(64, {.activation = "relu", .input_shape = Shape{32}}),
      Dense(10, {.activation = "softmax"}),
  });
  model.compile(
      {.optimizer = "adam", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
  History history =
      model.fit(train.x, train.y, {.epochs = 10, .batch_size = 32, .validation_data = test});

  std::printf("final val_accuracy: %.4f\n", history.history["val_accuracy"].back());
  return 0;
}
