import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Served by the dataplane under /ui/ from the class path resource archway-studio/ (the Maven
// build packs target/classes into the archway-studio jar). `npm run dev` proxies the Admin API to
// a running dataplane (ARCHWAY_ADMIN, default http://127.0.0.1:9180).
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: {
    outDir: 'target/classes/archway-studio',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
  },
  server: {
    proxy: {
      '/apisix/admin': process.env.ARCHWAY_ADMIN || 'http://127.0.0.1:9180',
    },
  },
});
