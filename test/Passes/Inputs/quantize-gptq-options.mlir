// Input of qcc-quantize-weights-gptq.mlir: weight-algo=gptq without
// calibration statistics.

// expected-error @+1 {{weight-algo=gptq needs calibration statistics (stats=DIR, as written by qcc --calib-stats)}}
func.func @no_stats() {
  return
}
