// Quiet logs in tests unless asked for; tests that read logs build their own logger.
process.env.LOG_LEVEL ??= "silent";
