// Input of qcc-retain-outliers-invalid.mlir: the pass without count or ratio.
// expected-error @+1 {{qcc-retain-outliers: set count, ratio or both (with neither every channel would be an outlier)}}
func.func @no_criterion() {
  return
}
