// Security groups, ingress rules, IAM roles and instance profiles: the local
// cloud serves no API for them, so they are records with the physical ids and
// attributes CloudFormation hands out (Ref and Fn::GetAtt values).
import { ec2Id, generatedName, nameSuffix } from "../../ids.js";
import type { JsonObject } from "../../state/model.js";
import { done, type Outcome, type ProviderContext, type ResourceProvider } from "./provider.js";

type Naming = (ctx: ProviderContext) => {
  physicalId: string;
  attributes: Record<string, string>;
  uniqueId?: string;
};

function plainProvider(naming: Naming): ResourceProvider {
  const save = (
    ctx: ProviderContext,
    physicalId: string,
    attributes: Record<string, string>,
    uniqueId: string | undefined,
  ) => {
    ctx.world.store.plain.set(physicalId, {
      physicalId,
      type: ctx.type,
      owner: ctx.stack.stackId,
      properties: ctx.properties,
      attributes,
      ...(uniqueId ? { uniqueId } : {}),
    });
  };
  return {
    create(ctx): Outcome {
      const { physicalId, attributes, uniqueId } = naming(ctx);
      save(ctx, physicalId, attributes, uniqueId);
      return done(physicalId, attributes);
    },
    update(ctx): Outcome {
      const physicalId = ctx.physicalId ?? ctx.current?.physicalId ?? "";
      const saved = ctx.world.store.plain.get(physicalId);
      const attributes = saved?.attributes ?? ctx.current?.attributes ?? {};
      save(ctx, physicalId, attributes, saved?.uniqueId);
      return done(physicalId, attributes);
    },
    delete(ctx): Outcome {
      const physicalId = ctx.physicalId ?? ctx.current?.physicalId ?? "";
      ctx.world.store.plain.delete(physicalId);
      return done(physicalId);
    },
  };
}

const str = (props: JsonObject, key: string): string | undefined =>
  typeof props[key] === "string" ? (props[key] as string) : undefined;

export const securityGroupProvider = plainProvider((ctx) => {
  const id = ec2Id("sg");
  const vpc = str(ctx.properties, "VpcId") ?? "vpc-local";
  return { physicalId: id, attributes: { GroupId: id, VpcId: vpc, Id: id } };
});

export const securityGroupIngressProvider = plainProvider(() => {
  const id = ec2Id("sgr");
  return { physicalId: id, attributes: { Id: id } };
});

export const roleProvider = plainProvider((ctx) => {
  const name =
    str(ctx.properties, "RoleName") ?? generatedName(ctx.stack.stackName, ctx.logicalId, 64);
  const path = str(ctx.properties, "Path") ?? "/";
  return {
    physicalId: name,
    attributes: {
      Arn: `arn:aws:iam::${ctx.world.accountId}:role${path}${name}`,
      RoleId: `AROA${nameSuffix(17)}`,
    },
  };
});

export const instanceProfileProvider = plainProvider((ctx) => {
  const name =
    str(ctx.properties, "InstanceProfileName") ??
    generatedName(ctx.stack.stackName, ctx.logicalId, 128);
  const path = str(ctx.properties, "Path") ?? "/";
  return {
    physicalId: name,
    attributes: { Arn: `arn:aws:iam::${ctx.world.accountId}:instance-profile${path}${name}` },
    // IAM's unique id of an instance profile: AIPA and 17 characters.
    uniqueId: `AIPA${nameSuffix(17)}`,
  };
});
