def common_tags(first_post, second_post):  # << START_OF_TRACE
    first_tags = set(first_post.replace("#", "").split(","))
    second_tags = set(second_post.replace("#", "").split(","))
    shared = first_tags & second_tags
    only_first = first_tags - second_tags
    return sorted(shared), len(only_first)


common_tags("#python,#code,#fun", "#code,#music,#python")
