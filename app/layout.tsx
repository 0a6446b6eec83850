import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Providers } from "./providers";
import "./globals.css";

// Every page is rendered per request: proxy.ts gives each one its own CSP nonce.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "QuestDB operator dashboard",
  description: "Trading sessions and markets from QuestDB, resilient to outages",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
