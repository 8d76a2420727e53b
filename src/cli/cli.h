// Command-line entry point: `torii run`, `torii validate`, ...
#pragma once

namespace torii::cli {

int main(int argc, char** argv);

}  // namespace torii::cli
