"""The composition root: reads the environment and baton.yaml and wires the layers together."""
