// SPDX-License-Identifier: GPL-2.0
/*
 * Debian trixie's static libelf (elfutils 0.192) calls four functions of
 * elfutils' internal search-tree wrapper without containing them; a
 * static kfp-bpf needs them from somewhere.  The tree is a struct whose
 * first member is the tsearch(3) root; these only ever touch that member,
 * whatever follows it (a lock in threaded builds, which kfp-bpf is not).
 */
#define _GNU_SOURCE
#include <search.h>
#include <stdlib.h>

struct eu_tree {
	void *root;
};

void eu_search_tree_init(struct eu_tree *tree)
{
	tree->root = NULL;
}

void eu_search_tree_fini(struct eu_tree *tree, void (*free_node)(void *))
{
	tdestroy(tree->root, free_node);
	tree->root = NULL;
}

void *eu_tsearch(const void *key, struct eu_tree *tree,
		 int (*compare)(const void *, const void *))
{
	return tsearch(key, &tree->root, compare);
}

void *eu_tdelete(const void *key, struct eu_tree *tree,
		 int (*compare)(const void *, const void *))
{
	return tdelete(key, &tree->root, compare);
}
