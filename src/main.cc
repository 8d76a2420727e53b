// torii: an Istio ingress/egress gateway. See README.md.
#include "cli/cli.h"

int main(int argc, char** argv) { return torii::cli::main(argc, argv); }
