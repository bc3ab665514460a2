import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { InvalidPropsError } from '../private/invalid-props';

/**
 * Where the ENIs of always-on `ssm`, `ssmmessages` and `ec2messages` interface endpoints go
 * ([`RescueEndpoints.alwaysOn`](#cdk-ec2-reset-access.RescueEndpoints.alwaysOn)).
 *
 * Interface endpoints are billed per ENI-hour (in us-east-1 $0.01 per hour per ENI per
 * endpoint, about $7.30 a month each), whether or not anything uses them. The choice is cost
 * against availability.
 */
export enum EndpointPlacement {
  /**
   * One ENI per endpoint, in the first rescue subnet: 3 ENIs in total, whatever the
   * number of Availability Zones.
   *
   * A helper in another Availability Zone still reaches the endpoints, since routing
   * inside a VPC crosses zones and the private DNS names resolve to the one ENI. That
   * traffic is billed as cross-AZ data transfer, but a reset moves a few megabytes. The
   * price: while the endpoints' Availability Zone is impaired, helpers in the other zones
   * cannot reach Systems Manager, so offline resets there fail until it recovers.
   */
  ONE_AZ = 'ONE_AZ',

  /**
   * One ENI per endpoint in every rescue subnet: 3 × (number of Availability Zones) ENIs.
   * A reset in one zone never depends on another zone; the idle cost grows with the
   * number of zones.
   */
  EVERY_AZ = 'EVERY_AZ',
}

/** How the `ssm`, `ssmmessages` and `ec2messages` interface endpoints of a rescue VPC exist. */
export enum RescueEndpointsMode {
  /** Created by the reset workflow when an offline reset needs them, deleted after a grace period. */
  ON_DEMAND = 'ON_DEMAND',
  /** Created with the stack and kept (billed every hour). */
  ALWAYS_ON = 'ALWAYS_ON',
  /** Not created: the VPC already has them (bring your own). */
  NONE = 'NONE',
}

/** Options of [`RescueEndpoints.onDemand`](#cdk-ec2-reset-access.RescueEndpoints.onDemand). */
export interface OnDemandEndpointsOptions {
  /**
   * How long the endpoints stay after the last reset that used them has ended, so that a reset
   * soon after reuses them instead of waiting for new ones. A scheduled function deletes them
   * once the grace period has passed (up to five minutes later). EC2 bills every started
   * endpoint-hour in full, so a grace period of up to about 40 minutes costs a single reset
   * nothing more. Whole minutes, from 1 minute to 24 hours.
   *
   * @default Duration.minutes(15)
   */
  readonly gracePeriod?: Duration;
}

/** Options of [`RescueEndpoints.alwaysOn`](#cdk-ec2-reset-access.RescueEndpoints.alwaysOn). */
export interface AlwaysOnEndpointsOptions {
  /**
   * Where the endpoints' ENIs go. See [`EndpointPlacement`](#cdk-ec2-reset-access.EndpointPlacement)
   * for the trade-off between cost and availability.
   *
   * @default EndpointPlacement.ONE_AZ - the cheapest placement that serves every zone
   */
  readonly placement?: EndpointPlacement;
}

/** Options of [`RescueEndpoints.none`](#cdk-ec2-reset-access.RescueEndpoints.none). */
export interface ExistingEndpointsOptions {
  /**
   * The security group of the `ssm`, `ssmmessages` and `ec2messages` endpoints already in
   * the VPC. The helper is allowed to reach it on port 443; its own rules must allow 443 from
   * the rescue subnets (they are not changed).
   */
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * The choice of how a [`RescueVpc`](#cdk-ec2-reset-access.RescueVpc) gets the `ssm`,
 * `ssmmessages` and `ec2messages` interface endpoints a helper instance needs to reach Systems
 * Manager (with private DNS, so one endpoint per service per VPC):
 *
 * - `RescueEndpoints.onDemand()` (the default): the reset workflow creates them in the
 *   Availability Zone of the reset when an offline reset starts, in parallel with the helper's
 *   launch; concurrent resets share them; the last reset to finish leaves them for a grace
 *   period, then a scheduled function deletes them. Idle cost: none.
 * - `RescueEndpoints.alwaysOn()`: created with the stack and kept (about $21.90 a month in
 *   us-east-1 with `EndpointPlacement.ONE_AZ`); a reset never waits for them.
 * - `RescueEndpoints.none({ securityGroup })`: the VPC (`existingVpc`) already has them, and
 *   an S3 gateway endpoint; RescueVpc creates neither.
 *
 * With `onDemand()` and `alwaysOn()`, the endpoints' security group and the S3 gateway
 * endpoint (both free) are created with the stack and stay.
 */
export class RescueEndpoints {
  /**
   * The endpoints are created by the reset workflow when an offline reset needs them, shared
   * by concurrent resets, and deleted `gracePeriod` after the last one has ended.
   */
  public static onDemand(options: OnDemandEndpointsOptions = {}): RescueEndpoints {
    const gracePeriod = options.gracePeriod ?? Duration.minutes(15);
    if (!gracePeriod.isUnresolved()) {
      const minutes = gracePeriod.toMinutes({ integral: false });
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) {
        throw new InvalidPropsError('EndpointGracePeriodInvalid', `RescueEndpoints.onDemand: gracePeriod is ${gracePeriod.toHumanString()}; ` +
          'give whole minutes from 1 minute to 24 hours (default 15 minutes).');
      }
    }
    return new RescueEndpoints(RescueEndpointsMode.ON_DEMAND, { gracePeriod });
  }

  /** The endpoints are created with the stack and kept: no reset waits for them, and they bill every hour. */
  public static alwaysOn(options: AlwaysOnEndpointsOptions = {}): RescueEndpoints {
    return new RescueEndpoints(RescueEndpointsMode.ALWAYS_ON, { placement: options.placement ?? EndpointPlacement.ONE_AZ });
  }

  /**
   * The VPC (`existingVpc`) already has the `ssm`, `ssmmessages` and `ec2messages` endpoints
   * with private DNS, and an S3 gateway endpoint whose policy allows `s3:GetObject` on
   * `RescueVpc.ssmBucketObjectArns`: RescueVpc creates no endpoint.
   */
  public static none(options: ExistingEndpointsOptions): RescueEndpoints {
    if (!options?.securityGroup) {
      throw new InvalidPropsError('ExistingEndpointSecurityGroupMissing', 'RescueEndpoints.none: give `securityGroup`, the security group of the ' +
        'existing ssm, ssmmessages and ec2messages endpoints, so that the helper may reach them on port 443.');
    }
    return new RescueEndpoints(RescueEndpointsMode.NONE, { securityGroup: options.securityGroup });
  }

  /** Which of the three choices this is. */
  public readonly mode: RescueEndpointsMode;
  /** With `onDemand()`: how long the endpoints outlive the last reset that used them. */
  public readonly gracePeriod?: Duration;
  /** With `alwaysOn()`: where the endpoints' ENIs go. */
  public readonly placement?: EndpointPlacement;
  /** With `none()`: the security group of the endpoints already in the VPC. */
  public readonly existingSecurityGroup?: ec2.ISecurityGroup;

  private constructor(mode: RescueEndpointsMode, o: { gracePeriod?: Duration; placement?: EndpointPlacement; securityGroup?: ec2.ISecurityGroup }) {
    this.mode = mode;
    this.gracePeriod = o.gracePeriod;
    this.placement = o.placement;
    this.existingSecurityGroup = o.securityGroup;
  }
}

/**
 * The interface endpoint services a helper needs (Systems Manager User Guide, "Improve the
 * security of EC2 instances by using VPC endpoints for Systems Manager": ssm, ssmmessages and
 * ec2messages), in the order the workflow creates them.
 */
export const RESCUE_INTERFACE_SERVICES = ['ssm', 'ssmmessages', 'ec2messages'] as const;

/** `com.amazonaws.<region>.<service>` for each of {@link RESCUE_INTERFACE_SERVICES} (the Region may be a token). */
export function rescueServiceNames(region: string): string[] {
  return RESCUE_INTERFACE_SERVICES.map(service => `com.amazonaws.${region}.${service}`);
}
