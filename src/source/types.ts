// The source's answer to "what should be reconciled now?". Plain data: the
// reconciler maps failure reasons to its conditions and keeps reconciling
// `lastGood` when there is one.

/** Why a sync produced no new revision to apply. Closed: the reconciler switches on it. */
export const SOURCE_FAILURE_REASONS = [
  /** The remote (or local path) could not be fetched: network, credentials, a missing repo. */
  "unreachable",
  /** The remote answered, but has no such branch. */
  "branch-missing",
  /** Verification is on and the head commit carries no signature. */
  "unsigned",
  /** Verification is on and the head's signature is bad or by a key that is not trusted. */
  "untrusted-signature",
  /** The cache could not be set up or read, or the revision could not be written out there. */
  "checkout-failed",
  /**
   * The head has no manifests directory (`--path`): far likelier a mistake (a
   * wrong --path, a moved directory) than a wish to delete every cluster.
   */
  "path-missing",
  /**
   * Verification is on and the head does not descend from the last good
   * revision (a force-push rewound the branch); --allow-rewind accepts it.
   */
  "rewound",
] as const;

export type SourceFailureReason = (typeof SOURCE_FAILURE_REASONS)[number];

/** A revision written out in the cache, ready to read manifests from. */
export interface MaterializedRevision {
  /** Full commit sha. */
  readonly revision: string;
  /** Root of the checkout: the repository's top level at that revision. */
  readonly dir: string;
}

export interface SourceRevision extends MaterializedRevision {
  /** Committer date, ISO 8601. */
  readonly committedAt: string;
  /** First line of the commit message. */
  readonly subject: string;
  /** `Name <email>` of the author. */
  readonly author: string;
  /** The signer, when signatures are verified. */
  readonly signer?: string;
}

export type SourceResult =
  | (SourceRevision & {
      readonly ok: true;
      /** False when the revision is the same as the last good one of this source. */
      readonly changed: boolean;
      /**
       * Set when this head was accepted though it does not descend from the
       * last good revision: the branch was rewound (force-pushed).
       */
      readonly rewound?: BranchRewind;
    })
  | {
      readonly ok: false;
      readonly reason: SourceFailureReason;
      /** What is wrong and what to do, for an operator; no credentials. */
      readonly message: string;
      /** The head that was seen but refused (unsigned, untrusted, not checked out), if any. */
      readonly refusedRevision?: string;
      /** What to keep reconciling; absent until a sync has succeeded once. */
      readonly lastGood?: MaterializedRevision;
    };

/** How one path differs between two revisions. Renames are a delete plus an add. */
export interface ChangedPath {
  readonly path: string;
  readonly change: "added" | "modified" | "deleted";
}

/** An accepted head that does not descend from the revision accepted before it. */
export interface BranchRewind {
  /** The last good revision before this head (full sha). */
  readonly from: string;
  /** What happened and what to do, for an operator. */
  readonly message: string;
}
