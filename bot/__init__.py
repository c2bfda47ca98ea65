"""The Grands Voisins bot engine: channels, dispatch, store, languages. Knows no feature."""
