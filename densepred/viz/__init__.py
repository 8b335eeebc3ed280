"""Pictures: depth colour maps, sample grids, mask overlays, feature-map grids and plots."""
