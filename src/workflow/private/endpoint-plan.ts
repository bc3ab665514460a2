import { ERRORS } from './contracts';
import type { EndpointLeases } from './endpoint-leases';
import { WorkflowError } from './errors';

/**
 * The decisions about on-demand interface endpoints (docs/workflow-design.md, "On-demand
 * endpoints"), as plain functions over what the steps observed: which endpoints a reset must
 * create, delete or wait for (`nextEndpointStep`), and what the janitor releases and closes
 * (`planEndpointJanitor`).
 */

/** One interface endpoint of the rescue VPC for one of the services (DescribeVpcEndpoints). */
export interface EndpointObservation {
  readonly endpointId: string;
  readonly serviceName: string;
  /** Lower case: pendingacceptance | pending | available | deleting | deleted | rejected | failed | expired | partial. */
  readonly state: string;
  /** Tagged by this workflow (it created it, and may delete it). */
  readonly ours: boolean;
  readonly privateDnsEnabled: boolean;
  /** Epoch seconds. */
  readonly createdAt: number;
}

/** States in which an endpoint still holds its service's private DNS name in the VPC and bills. */
const ALIVE = ['pendingacceptance', 'pending', 'available', 'partial'];
/** States an endpoint never leaves by itself: it must be deleted (and another created). */
const BROKEN = ['failed', 'rejected', 'expired'];

/** What a reset does next to have the endpoints it needs. */
export interface EndpointStep {
  /** Services to create an endpoint for now. */
  readonly create: string[];
  /** Endpoints of ours to delete (broken ones, replaced once gone). */
  readonly delete: string[];
  /** What is still pending (empty once every service has an available endpoint). */
  readonly waitingFor: string[];
  readonly ready: boolean;
}

/**
 * For each service: an available endpoint of ours is what the helper needs; a pending one is
 * waited for; one being deleted too (it holds the private DNS name until it is gone, so a new
 * one cannot be created before); a broken one is deleted; none at all is created. An endpoint
 * with private DNS that is not ours makes ours impossible: the VPC belongs with
 * `RescueEndpoints.none()`.
 */
export function nextEndpointStep(serviceNames: readonly string[], endpoints: readonly EndpointObservation[]): EndpointStep {
  const create: string[] = [];
  const toDelete: string[] = [];
  const waitingFor: string[] = [];
  for (const service of serviceNames) {
    const mine = endpoints.filter(e => e.serviceName === service && e.ours && e.state !== 'deleted');
    if (mine.some(e => e.state === 'available')) continue;
    const foreign = endpoints.find(e => e.serviceName === service && !e.ours && e.privateDnsEnabled && ALIVE.includes(e.state));
    if (foreign && !mine.some(e => ALIVE.includes(e.state))) {
      throw new WorkflowError(ERRORS.endpointsUnavailable, `The rescue VPC already has an interface endpoint with private DNS for ${service} ` +
        `(${foreign.endpointId}) that this workflow did not create, and a VPC holds one per service: give the RescueVpc ` +
        '`endpoints: RescueEndpoints.none({ securityGroup })` with that endpoint\'s security group, or delete that endpoint.');
    }
    const broken = mine.filter(e => BROKEN.includes(e.state));
    toDelete.push(...broken.map(e => e.endpointId));
    const alive = mine.find(e => ALIVE.includes(e.state));
    if (alive) {
      waitingFor.push(`${service} ${alive.state}`);
    } else if (mine.some(e => e.state === 'deleting') || broken.length > 0) {
      waitingFor.push(`${service} ${broken.length > 0 ? broken[0].state : 'deleting'}`);
    } else {
      create.push(service);
      waitingFor.push(`${service} requested`);
    }
  }
  return { create, delete: toDelete, waitingFor, ready: waitingFor.length === 0 };
}

/** What the janitor observed. */
export interface JanitorObservation {
  readonly leases: EndpointLeases;
  /** The status of each leasing reset execution (DescribeExecution), `GONE` when Step Functions no longer knows it. */
  readonly executionStatus: Readonly<Record<string, string>>;
  /** The endpoints of ours in the VPC (any state). */
  readonly endpoints: readonly EndpointObservation[];
  readonly nowEpochSeconds: number;
  readonly gracePeriodSeconds: number;
}

/** What the janitor does. */
export interface JanitorPlan {
  /** Leases of resets that have ended (the restore did not release them): released now. */
  readonly release: string[];
  /** Endpoints to delete now (after a successful claim), or none. */
  readonly close: string[];
  readonly reason: string;
}

/**
 * Leases are released once their reset execution is no longer running: a helper only needs the
 * endpoints while its reset runs (the restore calls EC2 and SSM from Lambda, outside the VPC).
 * The endpoints are closed once no lease is left and the grace period has passed since the last
 * release (or, with no release recorded, since the newest endpoint was created); broken ones
 * likewise. Nothing of ours that bills can outlive that: I9.
 */
export function planEndpointJanitor(o: JanitorObservation): JanitorPlan {
  const release = o.leases.leases.filter(arn => (o.executionStatus[arn] ?? 'GONE') !== 'RUNNING');
  const remaining = o.leases.leases.length - release.length;
  const billing = o.endpoints.filter(e => ALIVE.includes(e.state) || BROKEN.includes(e.state));
  if (billing.length === 0) return { release, close: [], reason: 'no endpoint to close' };
  if (remaining > 0) return { release, close: [], reason: `${remaining} reset(s) use the endpoints` };
  if (release.length > 0) return { release, close: [], reason: 'leases released now: the grace period starts' };
  const since = o.leases.lastReleasedAt ?? Math.max(...billing.map(e => e.createdAt));
  const idle = o.nowEpochSeconds - since;
  if (idle < o.gracePeriodSeconds) {
    return { release, close: [], reason: `idle for ${idle} s of the ${o.gracePeriodSeconds} s grace period` };
  }
  return { release, close: billing.map(e => e.endpointId), reason: `idle for ${idle} s, past the ${o.gracePeriodSeconds} s grace period` };
}
