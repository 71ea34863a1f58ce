/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A YAML file's first document as a jansson tree (libyaml): mappings
 * become objects, sequences arrays, and every scalar a string, so that
 * kubeconfig files are read with the same accessors as JSON.
 */
#ifndef EDGESHIFT_CNI_YAML_JSON_H
#define EDGESHIFT_CNI_YAML_JSON_H

#include <stddef.h>
#include <jansson.h>

/* The tree, or NULL with "line L: problem" in err. */
json_t *yaml_json_load(const char *path, char *err, size_t err_len);

#endif
