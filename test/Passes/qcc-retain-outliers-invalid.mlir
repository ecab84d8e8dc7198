// RUN: qcc-opt %s -split-input-file -qcc-retain-outliers="count=-1" -verify-diagnostics
// RUN: qcc-opt %S/Inputs/retain-outliers-no-criterion.mlir -qcc-retain-outliers -verify-diagnostics
// RUN: qcc-opt %S/Inputs/smooth-bad-stats.mlir -split-input-file -qcc-retain-outliers="count=1 min-elements=0" -verify-diagnostics

// expected-error @+1 {{qcc-retain-outliers: count must be >= 0 and ratio a finite number >= 0, got count -1, ratio 0}}
func.func @bad_count() {
  return
}
