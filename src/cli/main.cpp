// The tessera command: a thin main over the CLI library (src/cli/cli.cpp).
#include "tessera/cli/cli.h"

int main(int argc, char** argv) { return tessera::cli::run_cli(argc, argv); }
