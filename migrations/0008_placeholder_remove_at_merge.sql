-- PLACEHOLDER on branch `creative` only: 0008 belongs to another branch, and migrations must be
-- numbered without gaps. The lead removes this file when merging (the other branch's 0008 replaces it).
SELECT 1;
