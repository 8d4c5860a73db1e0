"""The expression engine: parsing, checking with positions, dependencies, description."""

from decimal import Decimal

import pytest

from pdz_indicators.expressions.checker import check, dependencies
from pdz_indicators.expressions.describe import describe
from pdz_indicators.expressions.sql import compile_sql
from pdz_indicators.expressions.syntax import (
    AvgDays,
    Binary,
    Call,
    Count,
    ExpressionError,
    Number,
    Population,
    Reported,
    Unary,
    parse,
)
from pdz_shared.testing.plugin import Harness


def error_of(formula: str) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        check(formula)
    return info.value


def test_precedence_and_unicode_operators() -> None:
    tree = parse("1 + 2 \u00d7 3 \u2212 4 \u00f7 2")
    assert isinstance(tree, Binary) and tree.op == "-"
    assert isinstance(tree.left, Binary) and tree.left.op == "+"
    assert isinstance(tree.left.right, Binary) and tree.left.right.op == "*"
    assert isinstance(tree.right, Binary) and tree.right.op == "/"
    assert parse("(1 + 2) * 3") == parse("(1+2)*3")
    neg = parse("--3")
    assert isinstance(neg, Unary) and isinstance(neg.operand, Unary)


def test_fact_functions_parse_to_typed_nodes() -> None:
    tree = check("count(evm.completed where team.has_ambito_social_worker) / count(evm.completed)")
    assert isinstance(tree, Binary) and tree.op == "/"
    assert isinstance(tree.left, Count) and tree.left.fact == "evm.completed"
    assert tree.left.where is not None
    avg = check(
        'avg_days(discharge.received -> transition.completed where destination = "domicilio")'
    )
    assert isinstance(avg, AvgDays)
    assert (avg.start, avg.end) == ("discharge.received", "transition.completed")
    assert isinstance(check('reported("posti_sad")'), Reported)
    pop = check("population(age >= 65)")
    assert isinstance(pop, Population) and pop.where is not None
    call = check('if(count(pai.approved) > 0, max(1, 2), coalesce(reported("x"), 0))')
    assert isinstance(call, Call) and call.name == "if"


def test_dependencies() -> None:
    deps = dependencies(
        check(
            'count(pai.approved) / count(evm.completed) + reported("posti_sad") '
            "+ avg_days(discharge.received -> transition.completed) + population()"
        )
    )
    assert deps.facts == {
        "pai.approved",
        "evm.completed",
        "discharge.received",
        "transition.completed",
    }
    assert deps.reported == {"posti_sad"}
    assert deps.population and deps.counts_people
    assert not dependencies(check('reported("a") * 2')).counts_people


def test_description_in_italian() -> None:
    text = describe(
        check("count(evm.completed where team.has_ambito_social_worker) / count(evm.completed)")
    )
    assert text == (
        "(numero di valutazioni multidimensionali completate con l'assistente sociale del "
        "comune o dell'Ambito) diviso (numero di valutazioni multidimensionali completate)"
    )
    assert describe(
        check(
            'avg_days(discharge.received -> transition.completed where destination = "domicilio")'
        )
    ) == (
        "media dei giorni tra dimissioni protette ricevute e transizioni ospedale-territorio "
        "completate, quando destinazione uguale a «domicilio»"
    )
    assert describe(check("population(age >= 65) * 0.5")) == (
        "popolazione residente con età maggiore o uguale a 65 per 0,5"
    )


@pytest.mark.parametrize(
    ("formula", "line", "column", "fragment"),
    [
        ("count(evm.completed", 1, 20, "Atteso «)»"),
        ("1 +", 1, 4, "trovato la fine"),
        ("foo(1)", 1, 1, "Funzione sconosciuta «foo»"),
        ("count(evm.done)", 1, 7, "Tipo di fatto sconosciuto «evm.done»"),
        ("count(evm.completed where team.nope)", 1, 27, "Attributo sconosciuto «team.nope»"),
        ("count(evm.completed)\n  + age", 2, 5, "gli attributi si usano solo dentro"),
        ("count(evm.completed where channel = 1)", 1, 27, "Attributo sconosciuto"),
        ("count(discharge.received where channel = 1)", 1, 42, "Qui serve un testo"),
        ("count(pai.approved) > 1", 1, 21, "Qui serve un numero"),
        ("if(1, 2, 3)", 1, 4, "Qui serve una condizione"),
        ("min(1)", 1, 1, "min() vuole da 2 a 10 argomenti"),
        ("1 < 2 < 3", 1, 7, "non si possono concatenare"),
        ("", 1, 1, "vuota"),
        ("1 $ 2", 1, 3, "Carattere inatteso"),
        ('reported("x', 1, 10, "Stringa non chiusa"),
        ("reported(posti_sad)", 1, 10, "il nome della misura tra virgolette"),
        ('reported("Robert\'); DROP TABLE fact;--")', 1, 1, "Nome di misura non valido"),
        ("population(age >= 65.5)", 1, 16, "In population() si confrontano solo"),
        ("count(evm.completed where count(pai.approved) > 1)", 1, 27, "dentro una condizione"),
        ("avg_days(evm.completed -> evm.completed)", 1, 27, "due fatti diversi"),
        ("99999999999999999999", 1, 1, "Numero fuori intervallo"),
        ("1e400", 1, 1, "Numero fuori intervallo"),
        ("0." + "1" * 40, 1, 1, "Numero fuori intervallo"),
    ],
)
def test_errors_have_positions(formula: str, line: int, column: int, fragment: str) -> None:
    err = error_of(formula)
    assert fragment in err.message_it, err.message_it
    assert err.pos is not None
    assert (err.pos.line, err.pos.column) == (line, column), err.message_it


def test_hostile_inputs_are_refused_cleanly() -> None:
    assert "annidata oltre 40" in error_of("(" * 500 + "1" + ")" * 500).message_it
    assert "annidata oltre 40" in error_of("-" * 500 + "1").message_it
    assert "annidata oltre 40" in error_of("not " * 200 + "true").message_it
    assert "supera 4000" in error_of("1+" * 3000 + "1").message_it
    # Long but flat formulas are fine (no recursion per operand).
    tree = check(" + ".join(["count(pai.approved)"] * 100))
    assert len(compile_sql(tree).leaves) == 100
    assert "Carattere inatteso '.'" in error_of('__import__("os").system("ls")').message_it
    assert "Funzione sconosciuta «__import__»" in error_of('__import__("os")').message_it


def test_numbers_are_exact_decimals() -> None:
    tree = check("0.1 + 0.2")
    assert isinstance(tree, Binary) and isinstance(tree.left, Number)
    assert tree.left.value == Decimal("0.1")


async def test_injectionish_strings_are_bound_never_spliced(harness: Harness) -> None:
    hostile = "x' OR 1=1; DROP TABLE fact; --"
    compiled = compile_sql(check(f'count(discharge.received where channel = "{hostile}")'))
    sql = compiled.leaves[0].sql
    assert hostile not in sql and "DROP" not in sql
    assert hostile in compiled.params.values()
    stmt = compiled.bind_context(
        compiled.statement(),
        t_code="A",
        t_ambiti=["A"],
        t_comune=None,
        t_comuni=[],
        p_from=None,
        p_to=None,
        p_label="2025",
        p_year=2025,
    )
    async with harness.factory() as s:
        row = (await s.execute(stmt)).mappings().one()
        assert row["value"] is not None  # COALESCE(NULL, 0)
        tables = (
            await s.execute(
                __import__("sqlalchemy").text(
                    "SELECT count(*) FROM pg_tables WHERE tablename = 'fact'"
                )
            )
        ).scalar_one()
    assert tables == 1


async def test_validate_endpoint(harness: Harness) -> None:
    token = harness.token(roles=["udp_viewer"], ambiti=["AMBITO-05-SEBINO"])
    async with harness.client(token) as c:
        ok = await c.post(
            "/v1/expressions/validate",
            json={"formula": "count(pai.approved) / count(evm.completed) * 100"},
        )
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert body["valid"] is True and body["error"] is None
        assert body["dependencies"] == {
            "facts": ["evm.completed", "pai.approved"],
            "reported": [],
            "population": False,
            "counts_people": True,
        }
        assert body["description"].startswith("(numero di progetti individualizzati (PAI)")
        assert body["tree"]["node"] == "binary" and body["tree"]["op"] == "*"
        bad = await c.post(
            "/v1/expressions/validate",
            json={"formula": "count(pai.approved) /\n  count(evm.bogus)"},
            headers={"Accept-Language": "en"},
        )
        assert bad.status_code == 200
        assert bad.json()["error"] == {
            "message": bad.json()["error"]["message"],
            "line": 2,
            "column": 9,
        }
        assert bad.json()["error"]["message"].startswith("Unknown fact type 'evm.bogus'")
        assert bad.json()["valid"] is False
        too_long = await c.post("/v1/expressions/validate", json={"formula": "1" * 5000})
        assert too_long.status_code == 422
    async with harness.client() as anonymous:
        assert (
            await anonymous.post("/v1/expressions/validate", json={"formula": "1"})
        ).status_code == 401


def test_leps_library_formulas_are_valid() -> None:
    from pdz_indicators.expressions.library import LEPS_FORMULAS

    for code, formula in LEPS_FORMULAS.items():
        tree = check(formula)
        assert describe(tree), code
        assert compile_sql(tree).leaves, code
