"""Sub-commands of ``skyfence`` that live outside cli.py (each module: ``register(sub)``)."""
