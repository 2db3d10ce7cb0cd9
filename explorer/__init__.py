"""The Qt application. Imports `models`; `models` never imports this package.

Importing the package itself loads no Qt: the command line (explorer/cli.py) runs `presets`,
`trace` and `eval` without it. pyqtgraph's options are set in explorer/widgets, which every
module that draws imports first."""
