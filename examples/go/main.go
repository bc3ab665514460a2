// A Go CDK app that uses cdk-ec2-reset-access the way a platform team would.
//
// Operators get a role that may start resets and read the new passwords; only instances tagged
// team:break-glass=windows may be reset; root volumes encrypted with the team's own KMS key are
// allowed. `go run .` synthesizes into ./cdk.out with no AWS credentials (an environment-agnostic
// stack); `cdk deploy --app "go run ."` deploys it.
package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/jsii-runtime-go"
	"github.com/ec2-reset-access/cdk-ec2-reset-access-go/cdkec2resetaccess"
)

func main() {
	defer jsii.Close()

	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String("cdk.out")})
	stack := awscdk.NewStack(app, jsii.String("ResetAccessConsumer"), nil)

	volumeKey := awskms.NewKey(stack, jsii.String("VolumeKey"), &awskms.KeyProps{
		EnableKeyRotation: jsii.Bool(true),
		Description:       jsii.String("Root volumes of the Windows fleet"),
	})

	resetAccess := cdkec2resetaccess.NewResetAccess(stack, jsii.String("ResetAccess"), &cdkec2resetaccess.ResetAccessProps{
		TargetTag: &cdkec2resetaccess.TargetTag{
			Key:    jsii.String("team:break-glass"),
			Values: jsii.Strings("windows"),
		},
		AllowedVolumeKeys: &[]awskms.IKey{volumeKey},
	})

	operators := awsiam.NewRole(stack, jsii.String("Operators"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewAccountRootPrincipal(),
	})
	resetAccess.GrantStartReset(operators)
	resetAccess.GrantReadPasswords(operators)

	app.Synth(nil)
}
