"""Pure parts of the campaigns context: vocabulary, channels, benchmarks, planning maths, lifecycle, compliance."""
