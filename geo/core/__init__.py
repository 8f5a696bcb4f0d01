"""Geography the records stand on, below the incidents in the layers: boundaries and how
they are loaded (`boundaries`), which country a point belongs to (`borders`), places and
the gazetteer (`places`, `gazetteer`), regional organisations (`regions`) and coordinates
as people type them (`coordinates`). Country codes and names are `geo.countries`, lower
still, since organisations use them."""
