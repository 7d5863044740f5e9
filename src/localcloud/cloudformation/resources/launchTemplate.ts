// AWS::EC2::LaunchTemplate: an update makes a new version and sets it as the
// default, which is what moves Fn::GetAtt LatestVersionNumber (and with it the
// group's launch template version, starting a rolling update).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-launchtemplate.html
import { ec2Id, nameSuffix } from "../../ids.js";
import type { JsonObject, LaunchTemplateRecord } from "../../state/model.js";
import { deepEqual } from "../changeSet.js";
import {
  done,
  failed,
  type Outcome,
  type ProviderContext,
  type ResourceProvider,
} from "./provider.js";

function attributes(template: LaunchTemplateRecord): Record<string, string> {
  return {
    LaunchTemplateId: template.id,
    LatestVersionNumber: String(template.latestVersion),
    DefaultVersionNumber: String(template.defaultVersion),
  };
}

function dataOf(props: JsonObject): JsonObject {
  const data = props.LaunchTemplateData;
  return typeof data === "object" && data !== null && !Array.isArray(data) ? data : {};
}

export const launchTemplateProvider: ResourceProvider = {
  create(ctx): Outcome {
    const id = ec2Id("lt");
    const name =
      typeof ctx.properties.LaunchTemplateName === "string"
        ? ctx.properties.LaunchTemplateName
        : `${ctx.logicalId}-${nameSuffix(12)}`;
    const clash = [...ctx.world.store.launchTemplates.values()].find((t) => t.name === name);
    if (clash) {
      return failed(
        `Launch template name already in use. (Service: Ec2, Status Code: 400, Request ID: ${id})`,
      );
    }
    const template: LaunchTemplateRecord = {
      id,
      name,
      owner: ctx.stack.stackId,
      versions: [{ versionNumber: 1, createdAt: ctx.world.now(), data: dataOf(ctx.properties) }],
      defaultVersion: 1,
      latestVersion: 1,
    };
    ctx.world.store.launchTemplates.set(id, template);
    return done(id, attributes(template));
  },

  update(ctx): Outcome {
    const id = ctx.physicalId ?? ctx.current?.physicalId ?? "";
    const template = ctx.world.store.launchTemplates.get(id);
    if (!template)
      return failed(`The specified launch template, with template ID ${id}, does not exist.`);
    if (ctx.mode === "revert") {
      // Rolling back: the default version saved before the update is the default again.
      const wanted = Number(savedDefault(ctx));
      if (template.versions.some((v) => v.versionNumber === wanted))
        template.defaultVersion = wanted;
    } else {
      const data = dataOf(ctx.properties);
      const latest = template.versions.find((v) => v.versionNumber === template.latestVersion);
      if (
        !latest ||
        !deepEqual(latest.data, data) ||
        !deepEqual(ctx.current?.properties, ctx.properties)
      ) {
        const versionNumber = template.latestVersion + 1;
        template.versions.push({ versionNumber, createdAt: ctx.world.now(), data });
        template.latestVersion = versionNumber;
        template.defaultVersion = versionNumber;
      }
    }
    ctx.world.store.touch(template.owner);
    return done(id, attributes(template));
  },

  delete(ctx): Outcome {
    const id = ctx.physicalId ?? ctx.current?.physicalId ?? "";
    ctx.world.store.launchTemplates.delete(id);
    return done(id);
  },
};

/** The default version the resource had before the update being rolled back. */
function savedDefault(ctx: ProviderContext): string | undefined {
  return ctx.stack.operation?.previous?.resources[ctx.logicalId]?.attributes.DefaultVersionNumber;
}
