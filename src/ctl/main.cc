// risectl: see ctl/risectl.h.
#include <iostream>

#include "ctl/risectl.h"

int main(int argc, char** argv) {
  return rwmeta::ctl::RunRisectl(argc, argv, std::cout, std::cerr);
}
