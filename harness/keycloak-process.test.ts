import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KeycloakUnavailableError, findKeycloakJava, opsRealm } from "./keycloak-process";

/**
 * The Keycloak launcher's two decisions that need no Keycloak: which JDK it may run on (Java 21+,
 * one clear line otherwise) and the realm it imports (the README's recipe, field by field).
 */

const saved = process.env.KEYCLOAK_JAVA_HOME;
const dirs: string[] = [];

/** A directory that looks like a JDK of this major version to the launcher. */
function fakeJdk(major: number): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `fake-jdk-${major}-`));
  dirs.push(home);
  fs.mkdirSync(path.join(home, "bin"));
  fs.writeFileSync(path.join(home, "bin", "java"), "", { mode: 0o755 });
  fs.writeFileSync(path.join(home, "release"), `IMPLEMENTOR="test"\nJAVA_VERSION="${major}.0.1"\n`);
  return home;
}

afterEach(() => {
  if (saved === undefined) delete process.env.KEYCLOAK_JAVA_HOME;
  else process.env.KEYCLOAK_JAVA_HOME = saved;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe("findKeycloakJava", () => {
  it("takes a JDK 21 or later", () => {
    const home = fakeJdk(25);
    process.env.KEYCLOAK_JAVA_HOME = home;
    expect(findKeycloakJava()).toBe(path.join(home, "bin", "java"));
  });

  it("refuses Java 17 with one line that says what is needed", () => {
    process.env.KEYCLOAK_JAVA_HOME = fakeJdk(17);
    expect(() => findKeycloakJava()).toThrow(KeycloakUnavailableError);
    expect(() => findKeycloakJava()).toThrow(/^Cannot run Keycloak [\d.]+: it needs Java 21\+, .*KEYCLOAK_JAVA_HOME/);
  });
});

describe("opsRealm", () => {
  it("registers each app's callback and sign-out page, requires PKCE S256 and maps groups as asked", () => {
    const realm = opsRealm([{ clientId: "questdb-dashboard", appUrl: "http://127.0.0.1:4000", fullGroupPath: false }], {
      "questdb-dashboard": "secret",
    }) as {
      realm: string;
      users: { username: string; groups: string[] }[];
      clients: {
        publicClient: boolean;
        secret: string;
        redirectUris: string[];
        attributes: Record<string, string>;
        protocolMappers: { protocolMapper: string; config: Record<string, string> }[];
      }[];
    };
    expect(realm.realm).toBe("ops");
    const [client] = realm.clients;
    expect(client).toMatchObject({ publicClient: false, secret: "secret" });
    expect(client!.redirectUris).toEqual(["http://127.0.0.1:4000/api/auth/callback"]);
    expect(client!.attributes).toEqual({
      "pkce.code.challenge.method": "S256",
      "post.logout.redirect.uris": "http://127.0.0.1:4000/signed-out",
    });
    expect(client!.protocolMappers[0]).toMatchObject({
      protocolMapper: "oidc-group-membership-mapper",
      config: { "claim.name": "groups", "full.path": "false", "id.token.claim": "true" },
    });
    expect(realm.users.map((u) => `${u.username} ${u.groups.join()}`)).toEqual(["alice /trading-ops", "bob /other"]);
  });
});
