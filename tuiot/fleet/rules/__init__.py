"""Local rules for every vendor: the condition language, rules.toml, the engine that
turns readings into local alarms, their store, and a backtest over history."""
