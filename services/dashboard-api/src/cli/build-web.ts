import { buildWeb } from '../web-build';
import { DEFAULT_WEB_ROOT } from '../service';

buildWeb(DEFAULT_WEB_ROOT).then(
  () => process.stdout.write(`page built into ${DEFAULT_WEB_ROOT}\n`),
  (error: unknown) => {
    process.stderr.write(`build failed: ${String(error)}\n`);
    process.exit(1);
  },
);
