//===- qcc-opt.cpp - qcc's mlir-opt ---------------------------------------===//

#include "qcc/InitAll.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  qcc::registerAllDialects(registry);
  qcc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qcc optimizer driver\n", registry));
}
