"""Validation of every candidate on the temporal holdout and the champion/challenger gate.

- ``champion.choose_champion``: the use case (how the champion is chosen);
- ``gate``: the rule that decides; ``report``: the validation report; ``cards``: model cards.
"""
