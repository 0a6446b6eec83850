import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "@/server/env";
import { SignInError, providerConfiguration } from "./oidc-client";

/** A provider whose discovery document names its issuer without the trailing slash OIDC_ISSUER has. */
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!req.url?.endsWith("/.well-known/openid-configuration")) return void res.writeHead(404).end();
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        issuer: `${base}/realms/ops`,
        authorization_endpoint: `${base}/realms/ops/auth`,
        token_endpoint: `${base}/realms/ops/token`,
        jwks_uri: `${base}/realms/ops/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const envWithIssuer = (issuer: string) =>
  parseEnv({
    AUTH_MODE: "oidc",
    OIDC_ISSUER: issuer,
    OIDC_CLIENT_ID: "dashboard",
    OIDC_CLIENT_SECRET: "client-secret",
    OIDC_ALLOWED_GROUPS: "operators",
    AUTH_SECRET: "Zx8kQ2vLp9Wm4Rt7Yb1Nc6Hd3Jf5Gs0Ae8Uq2Io4Pl7Mk9",
  });

describe("providerConfiguration", () => {
  it("an OIDC_ISSUER that differs from the provider's own (a trailing slash) is named, with both forms", async () => {
    const error = await providerConfiguration(envWithIssuer(`${base}/realms/ops/`)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignInError);
    expect((error as SignInError).failure).toBe("provider_misconfigured");
    expect((error as SignInError).message).toBe(
      `OIDC_ISSUER is "${base}/realms/ops/" but the provider at that address names itself "${base}/realms/ops": ` +
        `set OIDC_ISSUER to exactly "${base}/realms/ops"`,
    );
  });

  it("the provider's own form is discovered", async () => {
    const config = await providerConfiguration(envWithIssuer(`${base}/realms/ops`));
    expect(config.serverMetadata().issuer).toBe(`${base}/realms/ops`);
  });
});
