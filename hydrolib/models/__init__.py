"""The networks and the physics they are trained with: the study's LSTMs (``networks``), the
water balance and its loss (``balance``), the constraint variants and their sources of ε
(``constraints``, ``conceptual``, ``hybrid``) and how the physics weights were chosen (``weights``)."""
