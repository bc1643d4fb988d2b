"""The follow-up after the convention is signed: work started and delivered, milestones, proofs."""
