import type { NextConfig } from "next";

// Nothing here for refkit: it needs no Next.js configuration.
const nextConfig: NextConfig = {};

export default nextConfig;
