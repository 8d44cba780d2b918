/**
 * Preloaded (`node --import`) into the reference server when profiling: SIGTERM exits the
 * process normally, before Nest's shutdown hook re-raises the signal, so that `--cpu-prof`
 * writes its profile (V8 writes it only on a normal exit).
 */
process.once('SIGTERM', () => process.exit(0));
