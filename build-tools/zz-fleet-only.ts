import './load-text';
import { printFleet } from './fleet-bench';
printFleet().catch(e => { console.error(e); process.exit(1); });
