-- Numbered after issue 14 (not 0005) so it cannot collide with migrations other branches add meanwhile;
-- versions only need to be unique: each migration here is independent of the ones numbered between.
-- Recursive steps (Metaflow 2.19): a step whose switch can pick the step itself runs one task per
-- iteration. iteration_stack says which iteration a task is, like Metaflow's _iteration_stack
-- artifact: '{}' outside any loop, '{k}' for the k-th (0-based) iteration of a recursive step.
-- Adding a column with a constant default rewrites no rows.
ALTER TABLE tasks ADD COLUMN iteration_stack integer[] NOT NULL DEFAULT '{}';
