"""Developer tools around the worker, kept apart from its runtime: the local stack launcher,
the traffic simulator, the synthetic customer base and the demo. The worker, the web and the
shared modules never import them (an import-linter contract in pyproject.toml); they may import
anything of the project.
"""
