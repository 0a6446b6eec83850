import { NextResponse } from "next/server";
import { describe, expect, it } from "vitest";
import { clearSessionCookies, setSessionCookie, setSignInCookie } from "./auth-cookies";

const setCookies = (res: NextResponse) => res.headers.getSetCookie();

describe("the app's cookies", () => {
  it("over https: __Host- prefix, Secure, HttpOnly, SameSite=Lax, path /, an expiry", () => {
    const res = NextResponse.next();
    setSessionCookie(res, "sealed", true);
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(/^__Host-qdb_session=sealed;/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
    expect(cookie).toMatch(/; SameSite=lax/i);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=28800/);
  });

  it("over plain http: no prefix and no Secure (a browser would drop it), still HttpOnly and Lax", () => {
    const res = NextResponse.next();
    setSessionCookie(res, "sealed", false);
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(/^qdb_session=sealed;/);
    expect(cookie).not.toMatch(/Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);
  });

  it("the sign-in state lives 10 minutes; over https a __Host- cookie (Secure, path /), plain over http", () => {
    const res = NextResponse.next();
    setSignInCookie(res, "state", true);
    const [cookie] = setCookies(res);
    expect(cookie).toMatch(/^__Host-qdb_signin=state;/);
    expect(cookie).toMatch(/; Path=\/;/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; Max-Age=600/);
    const plain = NextResponse.next();
    setSignInCookie(plain, "state", false);
    expect(setCookies(plain)[0]).toMatch(/^qdb_signin=state;/);
  });

  it("sign-out clears the session cookie under both names over https", () => {
    const res = NextResponse.next();
    clearSessionCookies(res, true);
    const cookies = setCookies(res);
    expect(cookies.map((c) => c.split("=")[0])).toEqual(["__Host-qdb_session", "qdb_session"]);
    for (const cookie of cookies) expect(cookie).toMatch(/Max-Age=0/);
  });
});
