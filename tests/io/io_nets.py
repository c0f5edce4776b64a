"""Networks shared by the I/O tests and their subprocesses."""

import neurosim as ns


def killable():
    net = ns.Network(seed=11)
    net.poisson("src", 200, rate=20.0)
    net.population("a", "iaf_psc_exp", 400)
    net.connect("src", "a", ns.fixed_prob(0.1), weight=300.0, delay=1.0)
    net.spike_monitor("a")
    net.spike_monitor("src")
    return net
