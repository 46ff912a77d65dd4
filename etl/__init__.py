"""Feed loaders: file -> COPY -> staging -> set-based validation -> MERGE."""
