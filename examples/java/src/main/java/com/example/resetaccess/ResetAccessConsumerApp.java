package com.example.resetaccess;

import io.github.ec2resetaccess.cdk.ResetAccess;
import io.github.ec2resetaccess.cdk.TargetTag;
import java.util.List;
import software.amazon.awscdk.App;
import software.amazon.awscdk.AppProps;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.services.iam.AccountRootPrincipal;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.kms.Key;

/**
 * A Java CDK app that uses cdk-ec2-reset-access the way a platform team would.
 *
 * <p>Operators get a role that may start resets and read the new passwords; only instances tagged
 * {@code team:break-glass=windows} may be reset; root volumes encrypted with the team's own KMS key
 * are allowed. {@code mvn compile exec:java} synthesizes into ./cdk.out with no AWS credentials (an
 * environment-agnostic stack); {@code cdk deploy --app "mvn -q compile exec:java"} deploys it.
 */
public final class ResetAccessConsumerApp {
    private ResetAccessConsumerApp() {
    }

    public static void main(final String[] args) {
        App app = new App(AppProps.builder().outdir("cdk.out").build());
        Stack stack = new Stack(app, "ResetAccessConsumer");

        Key volumeKey = Key.Builder.create(stack, "VolumeKey")
                .enableKeyRotation(true)
                .description("Root volumes of the Windows fleet")
                .build();

        ResetAccess resetAccess = ResetAccess.Builder.create(stack, "ResetAccess")
                .targetTag(TargetTag.builder().key("team:break-glass").values(List.of("windows")).build())
                .allowedVolumeKeys(List.of(volumeKey))
                .build();

        Role operators = Role.Builder.create(stack, "Operators")
                .assumedBy(new AccountRootPrincipal())
                .build();
        resetAccess.grantStartReset(operators);
        resetAccess.grantReadPasswords(operators);

        app.synth();
    }
}
