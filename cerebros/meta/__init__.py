"""Meta-search: tune :class:`~cerebros.SimpleCerebrosRandomSearch`'s own settings with Optuna.

``pip install 'cerebros[tune]'``.  The pieces:

* :mod:`cerebros.meta.space`: which settings are tuned over which values
  (:class:`SearchSpace`, :class:`Range`, :class:`Choice`, :class:`Fixed`, :data:`DIMENSIONS`);
* :mod:`cerebros.meta.metasearch`: :class:`MetaSearch`, one inner search per meta-trial;
* :mod:`cerebros.meta.study`: the study's storage and how processes share and resume it;
* :mod:`cerebros.meta.results`: the leaderboard of meta-trials (:func:`load_meta_results`).

Importing this package needs neither Optuna nor TensorFlow; they load when a meta-search is
built.
"""

from cerebros.meta.metasearch import (BEST_SETTINGS_NAME, META_MANIFEST_NAME, META_RESULTS_NAME,
                                      MetaConfig, MetaSearch)
from cerebros.meta.results import is_meta_project, load_meta_results
from cerebros.meta.space import (DEFAULT_SPACE, DIMENSIONS, README_SETTINGS, Choice, Fixed, Range,
                                  SearchSpace)

__all__ = ["MetaSearch", "MetaConfig", "SearchSpace", "Range", "Choice", "Fixed", "DIMENSIONS",
           "DEFAULT_SPACE", "README_SETTINGS", "load_meta_results", "is_meta_project",
           "META_MANIFEST_NAME", "BEST_SETTINGS_NAME", "META_RESULTS_NAME"]
