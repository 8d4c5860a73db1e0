// An Ufficio di Piano front-end call, type-checked against the client generated from the
// merged OpenAPI document (docs/openapi/gateway.json). A breaking change to the contract
// (a renamed field, a removed path, a changed enum) makes `make client-check` fail.
import type { paths } from "./generated/pdz-api";

type ListTerritories = paths["/plans/v1/territories"]["get"];
type TerritoryQuery = NonNullable<ListTerritories["parameters"]["query"]>;
type TerritoryPage = ListTerritories["responses"][200]["content"]["application/json"];
type Problem = ListTerritories["responses"][401]["content"]["application/problem+json"];
type NewTerritory =
  paths["/plans/v1/territories"]["post"]["requestBody"]["content"]["application/json"];

export async function comuniDellAmbito(base: string, token: string): Promise<string[]> {
  const query: TerritoryQuery = {
    kind: "comune",
    parent: "AMBITO-05-SEBINO",
    limit: 50,
    sort: "name",
    fields: "code,name",
  };
  const params = new URLSearchParams(
    Object.entries(query).map(([k, v]) => [k, String(v)] as [string, string]),
  );
  const response = await fetch(`${base}/plans/v1/territories?${params}`, {
    headers: { Authorization: `Bearer ${token}`, "Accept-Language": "it" },
  });
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    throw new Error(problem.detail ?? problem.title);
  }
  const page = (await response.json()) as TerritoryPage;
  const total: number = page.total;
  return page.items.map((t) => `${t.name} (${t.code}) ${total}`);
}

export const iseo: NewTerritory = {
  code: "COMUNE-ISEO",
  name: "Iseo",
  kind: "comune",
  ambito_code: "AMBITO-05-SEBINO",
  parent_codes: ["AMBITO-05-SEBINO"],
};
