#!/usr/bin/env python3
"""A Python CDK app that uses cdk-ec2-reset-access the way a platform team would.

Operators get a role that may start resets and read the new passwords; only instances tagged
``team:break-glass=windows`` may be reset; root volumes encrypted with the team's own KMS key are
allowed. ``python app.py`` synthesizes into ./cdk.out with no AWS credentials (an
environment-agnostic stack); ``cdk deploy --app "python app.py"`` deploys it.
"""
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from cdk_ec2_reset_access import ResetAccess, TargetTag

app = cdk.App(outdir="cdk.out")
stack = cdk.Stack(app, "ResetAccessConsumer")

volume_key = kms.Key(stack, "VolumeKey", enable_key_rotation=True, description="Root volumes of the Windows fleet")

reset_access = ResetAccess(
    stack,
    "ResetAccess",
    target_tag=TargetTag(key="team:break-glass", values=["windows"]),
    allowed_volume_keys=[volume_key],
)

operators = iam.Role(stack, "Operators", assumed_by=iam.AccountRootPrincipal())
reset_access.grant_start_reset(operators)
reset_access.grant_read_passwords(operators)

app.synth()
