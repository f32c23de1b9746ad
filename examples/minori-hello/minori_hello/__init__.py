"""The example plugin: everything a Minori plugin can add, in the smallest form.

It lives outside ``plugins/`` and reaches Minori through its entry point, exactly like a
third-party package; docs/plugins.md walks through it.
"""

from __future__ import annotations

from core.plugin import Plugin
from minori_hello.controllers import GreetingController, tallies
from minori_hello.demo import demo
from minori_hello.feed import feed, sync
from minori_hello.ingest import button
from minori_hello.jobs import tally_job
from minori_hello.predictors import mood
from minori_hello.settings import HelloSettings

plugin = Plugin(
    name="hello",
    version="1.0.0",
    title="Hello (example)",
    settings=HelloSettings,
    routes=[GreetingController, tallies],
    models="minori_hello.models",
    device_kinds=[button],
    jobs=[tally_job],
    predictors=[mood],
    feed=feed,
    sync=sync,
    demo=demo,
)
