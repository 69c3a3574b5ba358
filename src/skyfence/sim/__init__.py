"""The scenario simulator: target motion, sensor models and the streaming engine."""
