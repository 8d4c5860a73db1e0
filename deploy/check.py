"""Checks the Kubernetes deployment: what `make k8s-check` runs (no cluster needed).

    uv run python deploy/check.py                  # generated files, render, schemas, policy
    uv run python deploy/check.py --checkov BIN    # ... and the checkov security scan

1. the generated manifests match ``pdz_shared.contracts`` (``deploy/generate.py --check``);
2. every overlay renders with ``kubectl kustomize`` (into ``.build/k8s/<overlay>.yaml``);
3. built-in kinds validate with ``kubernetes-validate --strict`` against Kubernetes
   ``K8S_VERSIONS``; Strimzi, CloudNativePG and Gateway API resources validate against the CRD
   schemas vendored in ``deploy/crds`` (strict: unknown fields are errors, as a server with
   ``--validate=strict`` would say);
4. platform rules that no schema expresses (below, ``policy()``);
5. with ``--checkov``: checkov on the rendered manifests and the Dockerfile; every failed check
   must be listed, with its reason, in ``deploy/checkov-skips.yaml``;
6. with ``--hadolint``: hadolint on the Dockerfile (no rule ignored).
Exits non-zero on the first stage that fails.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
BUILD = REPO / ".build" / "k8s"
OVERLAYS = sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())
# the oldest Kubernetes we support (matchLabelKeys in pod affinity is GA since 1.33) and the newest
K8S_VERSIONS = os.environ.get("K8S_VERSIONS", "1.33.0 1.37.0").split()
CR_GROUPS = (
    "kafka.strimzi.io",
    "postgresql.cnpg.io",
    "barmancloud.cnpg.io",
    "gateway.networking.k8s.io",
)
GATEWAY_NS_LABEL = "piano-di-zona.it/gateway"  # as deploy/generate.py: the APIs admit these
SERVICES = ("plans", "indicators", "casework", "notifications")


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, text=True, capture_output=True, check=False, **kw)  # noqa: S603


def fail(stage: str, msg: str) -> None:
    print(f"FAIL [{stage}] {msg}", file=sys.stderr)
    sys.exit(1)


# ------------------------------------------------------------------------------ 1, 2 ----------


def generated() -> None:
    r = run([sys.executable, str(ROOT / "generate.py"), "--check"])
    if r.returncode:
        fail("generate", r.stdout + r.stderr)
    print("ok   generated manifests match pdz_shared.contracts")


def render(overlay: str) -> list[dict[str, Any]]:
    r = run(["kubectl", "kustomize", str(ROOT / "k8s" / "overlays" / overlay)])
    if r.returncode:
        fail("kustomize", f"{overlay}: {r.stderr}")
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / f"{overlay}.yaml").write_text(r.stdout)
    docs = [d for d in yaml.safe_load_all(r.stdout) if d]
    out = BUILD.relative_to(REPO) / f"{overlay}.yaml"
    print(f"ok   {overlay}: rendered {len(docs)} resources -> {out}")
    return docs


def is_cr(doc: dict[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).split("/")[0] in CR_GROUPS


# ------------------------------------------------------------------------------ 3 -------------


def builtin_schemas(overlay: str, docs: list[dict[str, Any]]) -> None:
    path = BUILD / f"{overlay}.builtin.yaml"
    path.write_text(yaml.safe_dump_all([d for d in docs if not is_cr(d)], sort_keys=False))
    for version in K8S_VERSIONS:
        r = run(["kubernetes-validate", "--strict", "--quiet", "-k", version, str(path)])
        out = (r.stdout + r.stderr).strip()
        if r.returncode or "ERROR" in out or "WARN" in out:
            fail("kubernetes-validate", f"{overlay} (Kubernetes {version}):\n{out}")
    n = sum(1 for d in docs if not is_cr(d))
    versions = " and ".join(K8S_VERSIONS)
    print(f"ok   {overlay}: {n} built-in resources valid for Kubernetes {versions} (strict)")


def _strict(schema: Any) -> Any:
    """Unknown fields become errors where the CRD does not preserve them (structural schemas)."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        if out.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    return schema


def crd_schemas() -> dict[tuple[str, str], Draft202012Validator]:
    validators = {}
    for path in sorted((ROOT / "crds").rglob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = _strict(version["schema"]["openAPIV3Schema"])
                # metadata is validated by the server, not by the CRD: leave it open here
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                validators[(f"{group}/{version['name']}", kind)] = Draft202012Validator(schema)
    return validators


def custom_resources(overlay: str, docs: list[dict[str, Any]], validators: Any) -> None:
    errors = []
    crs = [d for d in docs if is_cr(d)]
    for doc in crs:
        key = (doc["apiVersion"], doc["kind"])
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if key not in validators:
            errors.append(f"{name}: no vendored CRD serves {doc['apiVersion']} {doc['kind']}")
            continue
        for e in sorted(validators[key].iter_errors(doc), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in e.absolute_path) or "(root)"
            errors.append(f"{name}: {where}: {e.message}")
    if errors:
        fail("crd-schema", f"{overlay}:\n  " + "\n  ".join(errors))
    print(
        f"ok   {overlay}: {len(crs)} Strimzi/CloudNativePG/Gateway API resources valid against "
        "vendored CRDs (strict)"
    )


# ------------------------------------------------------------------------------ 4 -------------


def _pods(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    out = []
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            out.append((f"{d['kind']}/{d['metadata']['name']}", d, d["spec"]["template"]["spec"]))
    return out


def policy(overlay: str, docs: list[dict[str, Any]]) -> None:
    """Rules of this platform that neither the schemas nor checkov express."""
    errors = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for name, doc, pod in _pods(docs):
        if pod.get("automountServiceAccountToken") is not False:
            errors.append(f"{name}: automountServiceAccountToken must be false")
        psc = pod.get("securityContext", {})
        if not psc.get("runAsNonRoot") or psc.get("seccompProfile", {}).get("type") != (
            "RuntimeDefault"
        ):
            errors.append(f"{name}: pod must run as non-root with seccomp RuntimeDefault")
        for c in pod.get("initContainers", []) + pod["containers"]:
            sc = c.get("securityContext", {})
            if not (
                sc.get("readOnlyRootFilesystem")
                and sc.get("allowPrivilegeEscalation") is False
                and sc.get("capabilities", {}).get("drop") == ["ALL"]
            ):
                errors.append(f"{name}/{c['name']}: read-only root, no escalation, drop ALL")
            if not c.get("resources", {}).get("requests") or not c["resources"].get("limits"):
                errors.append(f"{name}/{c['name']}: resource requests and limits")
            for ref in c.get("envFrom", []):
                cm = ref.get("configMapRef", {}).get("name")
                if cm and ("ConfigMap", cm) not in names:
                    errors.append(f"{name}/{c['name']}: ConfigMap {cm} is not rendered")
            for env in c.get("env", []):
                if "value" in env and any(
                    w in env["name"] for w in ("PASSWORD", "SECRET", "TOKEN")
                ):
                    errors.append(f"{name}: {env['name']} must come from a Secret, not a value")
        if ("ServiceAccount", pod.get("serviceAccountName")) not in names:
            errors.append(f"{name}: ServiceAccount {pod.get('serviceAccountName')} missing")
        if doc["kind"] == "Job":
            tag = pod["containers"][0]["image"].rsplit(":", 1)[-1]
            if not doc["metadata"]["name"].endswith(f"-migrate-{tag}"):
                errors.append(f"{name}: migration Job must be named after the image tag {tag}")
    if any(d["kind"] == "Secret" for d in docs):
        errors.append("a Secret is rendered: secrets are references only, never committed")
    for svc in SERVICES:
        for comp in ("api", "worker", "migrate"):
            if ("NetworkPolicy", f"pdz-{svc}-{comp}") not in names:
                errors.append(f"NetworkPolicy pdz-{svc}-{comp} missing")
    if ("NetworkPolicy", "default-deny-all") not in names:
        errors.append("NetworkPolicy default-deny-all missing")
    deployments = by_kind.get("Deployment", [])
    if overlay == "prod":
        for d in deployments:
            n = d["metadata"]["name"]
            if d["spec"].get("replicas", 1) < 2:
                errors.append(f"prod Deployment/{n}: replicas >= 2")
            if "podAntiAffinity" not in d["spec"]["template"]["spec"].get("affinity", {}):
                errors.append(f"prod Deployment/{n}: pod anti-affinity")
            if ("HorizontalPodAutoscaler", n) not in names:
                errors.append(f"prod Deployment/{n}: HorizontalPodAutoscaler")
    topics = {d["spec"]["topicName"] for d in by_kind.get("KafkaTopic", [])}
    for u in by_kind.get("KafkaUser", []):
        for acl in u["spec"]["authorization"]["acls"]:
            r = acl["resource"]
            if r["type"] == "topic" and r["patternType"] == "literal" and r["name"] not in topics:
                errors.append(
                    f"KafkaUser/{u['metadata']['name']}: ACL on unknown topic {r['name']}"
                )
            if "Create" in acl["operations"] or "All" in acl["operations"]:
                errors.append(f"KafkaUser/{u['metadata']['name']}: no Create/All (topics are CRs)")
    errors += front_door(overlay, docs)
    if errors:
        fail("policy", f"{overlay}:\n  " + "\n  ".join(errors))
    print(
        f"ok   {overlay}: platform policy (security contexts, secrets, network, replicas, ACLs, "
        "front door)"
    )


def _admits_gateway(netpol: dict[str, Any], port: int) -> bool:
    """The NetworkPolicy lets namespaces labelled GATEWAY_NS_LABEL=true reach ``port``."""
    for rule in netpol["spec"].get("ingress", []):
        ports = [p.get("port") for p in rule.get("ports", [])]
        if ports and port not in ports:
            continue
        for peer in rule.get("from", []):
            labels = peer.get("namespaceSelector", {}).get("matchLabels", {})
            if labels.get(GATEWAY_NS_LABEL) == "true" and "podSelector" not in peer:
                return True
    return False


def front_door(overlay: str, docs: list[dict[str, Any]]) -> list[str]:
    """The Gateway API front door serves /<svc>/... of every service as the devstack gateway does:
    one HTTPRoute per service on the Gateway's HTTPS listener, prefix stripped, to the Service's
    port whose pods listen on 8000 and admit the gateway's namespace; CORS allowlist set."""
    from urllib.parse import urlsplit

    errors: list[str] = []
    get = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    gateways = [d for d in docs if d["kind"] == "Gateway"]
    if len(gateways) != 1:
        return [f"exactly one Gateway expected, found {len(gateways)}"]
    gw = gateways[0]
    gname = f"Gateway/{gw['metadata']['name']}"
    common: dict[str, str] = next(  # generated: pdz-common-<hash>
        (
            d.get("data", {})
            for d in docs
            if d["kind"] == "ConfigMap" and d["metadata"]["name"].rsplit("-", 1)[0] == "pdz-common"
        ),
        {},
    )
    public_host = urlsplit(common.get("PDZ_PUBLIC_BASE_URL", "")).hostname
    listeners = {}
    for li in gw["spec"]["listeners"]:
        listeners[li["name"]] = li
        if li["protocol"] != "HTTPS" or li.get("tls", {}).get("mode", "Terminate") != "Terminate":
            errors.append(f"{gname}/{li['name']}: HTTPS listener terminating TLS only")
        refs = li.get("tls", {}).get("certificateRefs", [])
        if not refs or any(r.get("kind", "Secret") != "Secret" or r.get("namespace") for r in refs):
            errors.append(f"{gname}/{li['name']}: certificate from a Secret of its own namespace")
        if li.get("allowedRoutes", {}).get("namespaces", {}).get("from", "Same") != "Same":
            errors.append(f"{gname}/{li['name']}: allowedRoutes only from its own namespace")
        if li.get("hostname") != public_host:
            errors.append(
                f"{gname}/{li['name']}: hostname {li.get('hostname')} is not the host of "
                f"PDZ_PUBLIC_BASE_URL ({public_host})"
            )
    infra = gw["spec"].get("infrastructure", {}).get("labels", {})
    if infra.get(GATEWAY_NS_LABEL) != "true":
        errors.append(f"{gname}: spec.infrastructure.labels must carry {GATEWAY_NS_LABEL}=true")
    routes = {d["metadata"]["name"]: d for d in docs if d["kind"] == "HTTPRoute"}
    for svc in SERVICES:
        rname = f"HTTPRoute/pdz-{svc}"
        route = routes.pop(f"pdz-{svc}", None)
        if route is None:
            errors.append(f"{rname} missing: /{svc}/... is not served by the Gateway")
            continue
        spec = route["spec"]
        for ref in spec.get("parentRefs", []):
            if (
                ref.get("kind", "Gateway") != "Gateway"
                or ref["name"] != gw["metadata"]["name"]
                or ref.get("namespace", gw["metadata"].get("namespace"))
                != gw["metadata"].get("namespace")
                or ref.get("sectionName") not in listeners
            ):
                errors.append(f"{rname}: parentRef {ref} is not a listener of {gname}")
        if not spec.get("parentRefs"):
            errors.append(f"{rname}: no parentRefs")
        hosts = {li.get("hostname") for li in listeners.values()}
        if not spec.get("hostnames") or not set(spec["hostnames"]) <= hosts:
            errors.append(f"{rname}: hostnames {spec.get('hostnames')} not those of {gname}")
        rules = spec.get("rules", [])
        if len(rules) != 1:
            errors.append(f"{rname}: one rule expected")
            continue
        rule = rules[0]
        if [m.get("path") for m in rule.get("matches", [])] != [
            {"type": "PathPrefix", "value": f"/{svc}"}
        ]:
            errors.append(f"{rname}: must match exactly PathPrefix /{svc}")
        rewrites = [f for f in rule.get("filters", []) if f["type"] == "URLRewrite"]
        if [f["urlRewrite"].get("path") for f in rewrites] != [
            {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
        ]:
            errors.append(f"{rname}: URLRewrite ReplacePrefixMatch / (strip /{svc})")
        if any(f["type"] == "CORS" for f in rule.get("filters", [])):
            errors.append(
                f"{rname}: no CORS filter: the services answer CORS (PDZ_CORS_ORIGINS), both "
                "would send Access-Control-Allow-Origin twice"
            )
        backends = rule.get("backendRefs", [])
        service = get.get(("Service", f"pdz-{svc}"))
        if len(backends) != 1 or backends[0].get("kind", "Service") != "Service":
            errors.append(f"{rname}: exactly one Service backend")
            continue
        if backends[0]["name"] != f"pdz-{svc}" or service is None:
            errors.append(f"{rname}: backend must be the rendered Service pdz-{svc}")
            continue
        ports = {p["port"]: p for p in service["spec"]["ports"]}
        port = ports.get(backends[0].get("port"))
        if port is None:
            errors.append(f"{rname}: Service pdz-{svc} has no port {backends[0].get('port')}")
            continue
        api = get[("Deployment", f"pdz-{svc}-api")]["spec"]["template"]["spec"]["containers"][0]
        target = port.get("targetPort", port["port"])
        cport = next(
            (
                c["containerPort"]
                for c in api.get("ports", [])
                if target in (c["name"], c["containerPort"])
            ),
            None,
        )
        if cport != 8000:
            errors.append(
                f"{rname}: Service pdz-{svc} port {port['port']} must reach the API on 8000"
            )
        if not _admits_gateway(get[("NetworkPolicy", f"pdz-{svc}-api")], 8000):
            errors.append(
                f"NetworkPolicy/pdz-{svc}-api: admit {GATEWAY_NS_LABEL}=true namespaces on 8000"
            )
    errors += [f"HTTPRoute/{n}: not one of the services {SERVICES}" for n in routes]
    try:
        origins = json.loads(common.get("PDZ_CORS_ORIGINS", ""))
    except json.JSONDecodeError:
        origins = None
    if not isinstance(origins, list) or not origins or not all(isinstance(o, str) for o in origins):
        errors.append("ConfigMap/pdz-common: PDZ_CORS_ORIGINS must be a non-empty JSON list")
    elif any(
        o.strip() == "*" or (overlay == "prod" and not o.startswith("https://")) for o in origins
    ):
        errors.append(f"ConfigMap/pdz-common: PDZ_CORS_ORIGINS {origins}: no '*', https in prod")
    return errors


def code_matches(docs: list[dict[str, Any]]) -> None:
    """The services' code agrees with the manifests: each consumer's topics and group are in its
    KafkaUser's ACLs, and the Dockerfile copies every service."""
    import importlib

    from pdz_shared.events.kafka import KafkaConfig

    errors = []
    dockerfile = (REPO / "Dockerfile").read_text()
    users = {d["metadata"]["name"]: d for d in docs if d["kind"] == "KafkaUser"}
    for svc in sorted(p.name for p in (REPO / "services").iterdir() if p.is_dir()):
        if f"COPY services/{svc}/pyproject.toml" not in dockerfile:
            errors.append(f"Dockerfile does not copy services/{svc}/pyproject.toml")
        try:
            module = importlib.import_module(f"pdz_{svc}.consumers")
        except ModuleNotFoundError as exc:
            if exc.name != f"pdz_{svc}.consumers":
                raise
            continue
        acls = users[f"pdz-{svc}"]["spec"]["authorization"]["acls"]

        def allowed(kind: str, name: str, op: str, acls: list[dict[str, Any]] = acls) -> bool:
            return any(
                a["resource"]["type"] == kind
                and op in a["operations"]
                and (
                    a["resource"]["name"] == name
                    if a["resource"]["patternType"] == "literal"
                    else name.startswith(a["resource"]["name"])
                )
                for a in acls
            )

        for consumer in module.consumers(None, KafkaConfig("unused:9092")):
            for topic in consumer.topics:
                if not allowed("topic", topic, "Read"):
                    errors.append(f"{consumer.name} reads {topic}: no Read ACL for pdz-{svc}")
                if not allowed("topic", f"{topic}.dlq", "Write"):
                    errors.append(f"{consumer.name} dead-letters {topic}.dlq: no Write ACL")
            if not allowed("group", consumer.name, "Read"):
                errors.append(f"consumer group {consumer.name}: no Read ACL for pdz-{svc}")
    if errors:
        fail("code", "\n  ".join(errors))
    print("ok   every consumer's topics, dead letters and group are in its KafkaUser's ACLs")


# ------------------------------------------------------------------------------ 5 -------------


def checkov(binary: str) -> None:
    skips = yaml.safe_load((ROOT / "checkov-skips.yaml").read_text())["skips"]
    for s in skips:
        if not s.get("reason"):
            fail("checkov", f"skip {s['check']} has no reason")
    targets = [*(BUILD / f"{o}.yaml" for o in OVERLAYS), REPO / "Dockerfile"]
    failed: list[tuple[str, str, str]] = []
    for target in targets:
        framework = "dockerfile" if target.name == "Dockerfile" else "kubernetes"
        r = run(
            [
                binary,
                "--quiet",
                "--compact",
                "--soft-fail",
                "--output",
                "json",
                "--framework",
                framework,
                "--file",
                str(target),
            ],
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": ""},
        )
        try:
            report = json.loads(r.stdout) if r.stdout.strip() else []
        except json.JSONDecodeError:
            fail("checkov", f"{target}: unreadable output\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        for part in report if isinstance(report, list) else [report]:
            if not isinstance(part, dict):
                continue
            for check in part.get("results", {}).get("failed_checks", []):
                resource = check.get("resource", "")
                failed.append((check["check_id"], resource, str(target.name)))
    used: set[int] = set()
    unexplained = []
    for check_id, resource, target in failed:
        for i, s in enumerate(skips):
            if s["check"] == check_id and any(
                fnmatch.fnmatch(resource, p) for p in s.get("resources", ["*"])
            ):
                used.add(i)
                break
        else:
            unexplained.append(f"{check_id} {resource} ({target})")
    for i, s in enumerate(skips):
        if i not in used:
            print(f"note checkov skip {s['check']} no longer needed: remove it", file=sys.stderr)
    if unexplained:
        fail(
            "checkov",
            "failed checks not listed in deploy/checkov-skips.yaml:\n  "
            + "\n  ".join(sorted(set(unexplained))),
        )
    print(
        f"ok   checkov: {len(failed)} failed checks, all explained in deploy/checkov-skips.yaml "
        f"({len(used)} skip entries used)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", metavar="BIN", help="path of the checkov executable")
    parser.add_argument("--hadolint", metavar="BIN", help="path of the hadolint executable")
    parser.add_argument("--overlay", action="append", help="only these overlays")
    args = parser.parse_args()
    generated()
    validators = crd_schemas()
    for overlay in args.overlay or OVERLAYS:
        docs = render(overlay)
        builtin_schemas(overlay, docs)
        custom_resources(overlay, docs, validators)
        policy(overlay, docs)
    code_matches(docs)
    if args.checkov:
        checkov(args.checkov)
    if args.hadolint:
        r = run([args.hadolint, "--failure-threshold", "info", str(REPO / "Dockerfile")])
        if r.returncode:
            fail("hadolint", r.stdout + r.stderr)
        print("ok   hadolint: Dockerfile clean")
    print("k8s-check: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
