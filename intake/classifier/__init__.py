"""Rule-based triage: which kind, department, urgency and scope a resident's message has.

Build once with :meth:`Classifier.default` (the shipped rules and learned model) or
:meth:`Classifier.from_paths` (an operator's own files), then call :meth:`Classifier.classify`.
Rules are YAML data in ``intake/classifier/rules/``; a bad file raises :class:`RulesError`
naming the file and line. The learned model beside them is ``data/model.json``, rebuilt by
``domovoy classify --train``.
"""

from .engine import Classification, Classifier
from .rules import RulesError

__all__ = ["Classification", "Classifier", "RulesError"]
