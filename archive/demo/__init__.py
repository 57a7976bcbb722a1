"""The demo archive: synthetic footage, stills and interviews along an escape route, built by `crossings demo`.

The data is archive/demo/demo.toml; the media are generated at build time (archive.demo.media).
"""

from archive.demo.build import DemoReport, build_demo, load_demo, summary

__all__ = ["DemoReport", "build_demo", "load_demo", "summary"]
