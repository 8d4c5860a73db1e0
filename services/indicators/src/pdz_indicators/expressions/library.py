"""Formulas for the Sebino LEPS indicators, computed from casework facts and reported values.

Indicator definitions (and their formulas) belong to the plans service; these are the formulas
this service can compute for the LEPS indicators of the Sebino 2025-2027 plan, for plans' demo
data and for Uffici di Piano writing their own. Each one is checked by the tests.
"""

from __future__ import annotations

LEPS_FORMULAS: dict[str, str] = {
    # Numero incontri formativi svolti / previsti
    "LEPS-1.I1": 'reported("incontri_formativi_svolti") / reported("incontri_formativi_previsti")'
    " * 100",
    # Numero progetti individualizzati / numero valutazioni
    "LEPS-2.I2": "count(pai.approved) / count(evm.completed) * 100",
    # Riduzione tempo medio di attesa della dimissione per il ritorno a domicilio
    "LEPS-3.I3": "avg_days(discharge.received -> transition.completed "
    'where destination = "domicilio")',
    # ... per il ritorno in struttura residenziale
    "LEPS-3.I4": "avg_days(discharge.received -> transition.completed "
    'where destination = "struttura_residenziale")',
    # Incremento numero dimissioni protette gestite attraverso l'integrazione informativa
    "LEPS-3.I6": 'count(discharge.received where channel = "api" or channel = "kafka")',
    # Valutazioni con l'assistente sociale comunale o di Ambito / valutazioni effettuate
    "LEPS-4.I2": "count(evm.completed where team.has_ambito_social_worker) "
    "/ count(evm.completed) * 100",
    # Incremento numero persone in condizioni complesse prese in carico dalle UVM
    "LEPS-4.I4": 'count(evm.completed where kind = "multidimensional")',
    # N. PAI SAD che comprendono percorsi di dimissioni protette / N casi di dimissioni
    "LEPS-5.I2": 'count(transition.completed where destination = "domicilio") '
    "/ count(discharge.received) * 100",
}
