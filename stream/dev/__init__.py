"""Developer tools around the worker, kept apart from its runtime: the local stack launcher,
the traffic simulator, the synthetic customer base and the demo. The worker never imports them."""
